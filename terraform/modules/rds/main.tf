# The seed's POC Aurora cluster (off by default) with the cluster parameter group that makes the
# logs exist: without it Aurora writes no slow, general or audit log for us to read. log_output
# must be FILE: with TABLE the logs go to mysql.slow_log and no log file appears in the RDS API.

locals {
  mysql = var.engine == "aurora-mysql"
  mysql_parameters = merge(
    {
      slow_query_log  = "1"
      long_query_time = tostring(var.long_query_time)
      log_output      = "FILE"
      general_log     = var.general_log ? "1" : "0"
    },
    var.audit_events == "" ? { server_audit_logging = "0" } : {
      server_audit_logging = "1"
      server_audit_events  = var.audit_events
    },
  )
  postgresql_parameters = {
    log_min_duration_statement = tostring(var.log_min_duration_statement_ms)
    log_statement              = "ddl"
    log_connections            = "1"
    log_disconnections         = "1"
  }
  parameters = local.mysql ? local.mysql_parameters : local.postgresql_parameters
}

resource "aws_rds_cluster_parameter_group" "logs" {
  count       = var.enabled ? 1 : 0
  name        = "${var.name}-logs"
  family      = var.parameter_group_family
  description = "Logs for aurora-log-system: slow/general/audit (MySQL) or statement durations (PostgreSQL)"

  dynamic "parameter" {
    for_each = local.parameters
    content {
      name         = parameter.key
      value        = parameter.value
      apply_method = "immediate"
    }
  }

  tags = var.tags
}

resource "aws_db_subnet_group" "this" {
  count      = var.enabled ? 1 : 0
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "this" {
  count       = var.enabled ? 1 : 0
  name        = "${var.name}-aurora"
  description = "Database port from the allowed security groups only"
  vpc_id      = var.vpc_id
  tags        = var.tags

  ingress {
    description     = "Clients generating load"
    from_port       = local.mysql ? 3306 : 5432
    to_port         = local.mysql ? 3306 : 5432
    protocol        = "tcp"
    security_groups = var.client_security_group_ids
  }
}

resource "aws_rds_cluster" "this" {
  count                               = var.enabled ? 1 : 0
  cluster_identifier                  = var.name
  engine                              = var.engine
  engine_version                      = var.engine_version
  db_cluster_parameter_group_name     = aws_rds_cluster_parameter_group.logs[0].name
  db_subnet_group_name                = aws_db_subnet_group.this[0].name
  vpc_security_group_ids              = [aws_security_group.this[0].id]
  master_username                     = "aurora_admin"
  manage_master_user_password         = true
  storage_encrypted                   = true
  kms_key_id                          = var.kms_key_arn
  iam_database_authentication_enabled = true
  backup_retention_period             = 7
  copy_tags_to_snapshot               = true
  deletion_protection                 = true
  skip_final_snapshot                 = false
  final_snapshot_identifier           = "${var.name}-final"
  tags                                = var.tags
}

data "aws_partition" "current" {}

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

# Enhanced monitoring: OS metrics of the instances (the load that makes the logs).
resource "aws_iam_role" "monitoring" {
  count              = var.enabled ? 1 : 0
  name               = "${var.name}-rds-monitoring"
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  count      = var.enabled ? 1 : 0
  role       = aws_iam_role.monitoring[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_rds_cluster_instance" "this" {
  count                                 = var.enabled ? var.instances : 0
  identifier                            = "${var.name}-${count.index}"
  cluster_identifier                    = aws_rds_cluster.this[0].id
  engine                                = var.engine
  engine_version                        = var.engine_version
  instance_class                        = var.instance_class
  db_subnet_group_name                  = aws_db_subnet_group.this[0].name
  publicly_accessible                   = false
  auto_minor_version_upgrade            = true
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  performance_insights_retention_period = 7
  monitoring_interval                   = 60
  monitoring_role_arn                   = aws_iam_role.monitoring[0].arn
  tags                                  = var.tags
}
