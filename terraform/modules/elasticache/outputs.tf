output "valkey_url" {
  description = "VALKEY_URL of the services."
  value       = "rediss://${aws_elasticache_replication_group.this.primary_endpoint_address}:6379/0"
}
