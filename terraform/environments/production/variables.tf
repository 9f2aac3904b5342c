variable "region" {
  description = "Region of the fleet, the tables, the bucket and the cluster (AWS_REGION)."
  type        = string
}

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "aurora-prod"
}

variable "azs" {
  description = "Three availability zones."
  type        = list(string)
}

variable "vpc_cidr" {
  description = "CIDR of the VPC."
  type        = string
  default     = "10.40.0.0/16"
}

variable "rds_api_egress" {
  description = "interface_endpoint or internet_gateway (see modules/vpc); never a NAT gateway for the downloads."
  type        = string
  default     = "interface_endpoint"
}

variable "archive_bucket" {
  description = "S3_BUCKET."
  type        = string
}

variable "access_log_bucket" {
  description = "Existing bucket receiving the archive's S3 access logs."
  type        = string
}

variable "replication" {
  description = "Cross-region copy of the archive."
  type        = object({ enabled = bool, destination_bucket_arn = string, destination_kms_key_arn = string })
  default     = { enabled = false, destination_bucket_arn = "", destination_kms_key_arn = "" }
}

variable "namespace" {
  description = "Kubernetes namespace of the release."
  type        = string
  default     = "aurora"
}

variable "public_endpoint_cidrs" {
  description = "CIDRs allowed to the EKS public endpoint (e.g. the Jenkins agents); empty keeps it private."
  type        = list(string)
  default     = []
}

variable "cross_account_role_arns" {
  description = "Fleet roles in other accounts (AWS_ACCOUNTS)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
