output "chart_config" {
  description = "Settings for values-poc.yaml (config); Kafka, Valkey and OpenObserve run in the cluster."
  value = {
    AWS_REGION     = var.region
    S3_BUCKET      = var.archive_bucket
    INSTANCE_TABLE = local.tables.instance
    TRACKING_TABLE = local.tables.tracking
    JOBS_TABLE     = local.tables.jobs
  }
}

output "role_arns" {
  description = "serviceAccounts.<service>.roleArn of values-poc.yaml (IRSA)."
  value       = module.iam.role_arns
}

output "ecr_repositories" {
  description = "Image repositories."
  value       = module.ecr.repository_urls
}

output "poc_aurora_cluster" {
  description = "The POC Aurora cluster, when created."
  value       = module.rds.cluster_identifier
}
