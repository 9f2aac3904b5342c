# Valkey on ElastiCache: the Describe cache and the shared RDS token bucket. TLS in transit (the
# services use rediss://), encrypted at rest, reachable only from the nodes' security group.

resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "this" {
  name        = "${var.name}-valkey"
  description = "Valkey from the EKS nodes only"
  vpc_id      = var.vpc_id
  tags        = var.tags

  ingress {
    description     = "Valkey over TLS from the nodes"
    from_port       = 6379
    to_port         = 6379
    protocol        = "tcp"
    security_groups = var.client_security_group_ids
  }
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id       = var.name
  description                = "aurora-log-system cache and RDS token bucket"
  engine                     = "valkey"
  engine_version             = var.engine_version
  node_type                  = var.node_type
  num_cache_clusters         = var.replicas
  automatic_failover_enabled = true
  multi_az_enabled           = true
  port                       = 6379
  subnet_group_name          = aws_elasticache_subnet_group.this.name
  security_group_ids         = [aws_security_group.this.id]
  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  transit_encryption_enabled = true
  auto_minor_version_upgrade = true
  snapshot_retention_limit   = 1
  apply_immediately          = false
  tags                       = var.tags
}
