variable "name" {
  description = "Prefix of the role names."
  type        = string
}

variable "namespace" {
  description = "Kubernetes namespace of the services."
  type        = string
}

variable "service_accounts" {
  description = "Kubernetes service account of each service (the chart's defaults)."
  type        = object({ discovery = string, processor = string })
  default = {
    discovery = "aurora-log-system-discovery"
    processor = "aurora-log-system-processor"
  }
}

variable "cluster_name" {
  description = "EKS cluster (Pod Identity associations)."
  type        = string
}

variable "pod_identity" {
  description = "Bind the roles with EKS Pod Identity (true) or trust the cluster's OIDC provider for IRSA (false)."
  type        = bool
  default     = true
}

variable "oidc_provider_arn" {
  description = "The cluster's IAM OIDC provider (IRSA only)."
  type        = string
  default     = ""
}

variable "oidc_issuer" {
  description = "The cluster's OIDC issuer without https:// (IRSA only)."
  type        = string
  default     = ""
}

variable "tables" {
  description = "DynamoDB table names."
  type        = object({ instance = string, tracking = string, jobs = string })
}

variable "bucket" {
  description = "Archive bucket."
  type        = string
}

variable "s3_prefix" {
  description = "S3_PREFIX of the services: empty or ending with /."
  type        = string
  default     = ""
}

variable "kms_key_arn" {
  description = "Key of the bucket and the tables."
  type        = string
}

variable "msk_cluster_name" {
  description = "MSK cluster whose topics the services use with IAM auth; the statements are inert without one."
  type        = string
  default     = "none"
}

variable "cross_account_role_arns" {
  description = "Roles in other accounts that discovery and the processor assume (AWS_ACCOUNTS)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
