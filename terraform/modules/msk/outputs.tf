output "bootstrap_brokers_iam" {
  description = "KAFKA_BROKERS for IAM auth (KAFKA_SECURITY_PROTOCOL=SASL_SSL, KAFKA_SASL_MECHANISM=OAUTHBEARER)."
  value       = var.enabled ? aws_msk_cluster.this[0].bootstrap_brokers_sasl_iam : ""
}

output "bootstrap_brokers_scram" {
  description = "KAFKA_BROKERS for SCRAM."
  value       = var.enabled ? aws_msk_cluster.this[0].bootstrap_brokers_sasl_scram : ""
}

output "cluster_name" {
  description = "The cluster's name (msk_cluster_name of the IAM module)."
  value       = var.name
}
