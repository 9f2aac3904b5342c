output "chart_config" {
  description = "Settings for values-production.yaml (config)."
  value = {
    AWS_REGION              = var.region
    KAFKA_BROKERS           = module.msk.bootstrap_brokers_iam
    KAFKA_SECURITY_PROTOCOL = "SASL_SSL"
    KAFKA_SASL_MECHANISM    = "OAUTHBEARER"
    VALKEY_URL              = module.elasticache.valkey_url
    S3_BUCKET               = var.archive_bucket
    INSTANCE_TABLE          = local.tables.instance
    TRACKING_TABLE          = local.tables.tracking
    JOBS_TABLE              = local.tables.jobs
  }
}

output "role_arns" {
  description = "Roles of the services (bound by Pod Identity; for IRSA put them in serviceAccounts.*.roleArn)."
  value       = module.iam.role_arns
}

output "ecr_repositories" {
  description = "Image repositories (the chart's image.registry is their host)."
  value       = module.ecr.repository_urls
}
