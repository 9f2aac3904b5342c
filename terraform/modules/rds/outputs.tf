output "cluster_identifier" {
  description = "The POC cluster (empty when disabled)."
  value       = var.enabled ? aws_rds_cluster.this[0].cluster_identifier : ""
}
