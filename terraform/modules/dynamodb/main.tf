# The three state tables of docs/design.md §3, with the keys and TTL attribute of common/tables.py
# (tests/deploy compares them): on-demand, point-in-time recovery, encrypted with our key.

locals {
  tables = {
    instance = { name = var.tables.instance, hash_key = "instance_id", range_key = null }
    tracking = { name = var.tables.tracking, hash_key = "resource_id", range_key = "generation" }
    jobs     = { name = var.tables.jobs, hash_key = "instance_id", range_key = "job_id" }
  }
  ttl_attribute = "expires_at"
}

resource "aws_dynamodb_table" "this" {
  for_each                    = local.tables
  name                        = each.value.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = each.value.hash_key
  range_key                   = each.value.range_key
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = each.value.hash_key
    type = "S"
  }

  dynamic "attribute" {
    for_each = each.value.range_key == null ? [] : [each.value.range_key]
    content {
      name = attribute.value
      type = "S"
    }
  }

  ttl {
    attribute_name = local.ttl_attribute
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = merge(var.tags, { Table = each.key })
}
