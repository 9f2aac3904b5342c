# Optional MSK: IAM authentication (port 9098; the services sign tokens with their role through
# AWS's MSK IAM signer library), SCRAM if wanted (9096), TLS between clients and brokers and
# between brokers, no unauthenticated access, replication factor 3 and min ISR 2 by default.

resource "aws_msk_configuration" "this" {
  count          = var.enabled ? 1 : 0
  name           = var.name
  kafka_versions = [var.kafka_version]
  server_properties = join("\n", [
    "auto.create.topics.enable=false",
    "default.replication.factor=3",
    "min.insync.replicas=2",
    "num.partitions=12",
    "message.max.bytes=8388608",
    "log.retention.hours=168",
  ])
}

resource "aws_security_group" "this" {
  count       = var.enabled ? 1 : 0
  name        = "${var.name}-msk"
  description = "Kafka from the EKS nodes only"
  vpc_id      = var.vpc_id
  tags        = var.tags

  ingress {
    description     = "Kafka TLS, SCRAM and IAM listeners from the nodes"
    from_port       = 9094
    to_port         = 9098
    protocol        = "tcp"
    security_groups = var.client_security_group_ids
  }
}

resource "aws_cloudwatch_log_group" "this" {
  count             = var.enabled ? 1 : 0
  name              = "/aws/msk/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_msk_cluster" "this" {
  count                  = var.enabled ? 1 : 0
  cluster_name           = var.name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = var.brokers
  enhanced_monitoring    = "PER_TOPIC_PER_BROKER"

  broker_node_group_info {
    instance_type   = var.broker_instance_type
    client_subnets  = var.subnet_ids
    security_groups = [aws_security_group.this[0].id]
    storage_info {
      ebs_storage_info {
        volume_size = var.volume_size_gb
      }
    }
    connectivity_info {
      public_access {
        type = "DISABLED"
      }
    }
  }

  client_authentication {
    unauthenticated = false
    sasl {
      iam   = true
      scram = var.scram_enabled
    }
  }

  encryption_info {
    encryption_at_rest_kms_key_arn = var.kms_key_arn
    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this[0].arn
    revision = aws_msk_configuration.this[0].latest_revision
  }

  open_monitoring {
    prometheus {
      jmx_exporter {
        enabled_in_broker = true
      }
      node_exporter {
        enabled_in_broker = true
      }
    }
  }

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.this[0].name
      }
    }
  }

  tags = var.tags
}
