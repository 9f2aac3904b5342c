variable "region" {
  description = "Region of the fleet, the tables, the bucket and the cluster (AWS_REGION)."
  type        = string
}

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "aurora-poc"
}

variable "azs" {
  description = "Two availability zones are enough for a POC."
  type        = list(string)
}

variable "archive_bucket" {
  description = "S3_BUCKET."
  type        = string
}

variable "access_log_bucket" {
  description = "Existing bucket receiving the archive's S3 access logs."
  type        = string
}

variable "namespace" {
  description = "Kubernetes namespace of the release."
  type        = string
  default     = "aurora-poc"
}

variable "public_endpoint_cidrs" {
  description = "CIDRs allowed to the EKS public endpoint (your office, the Jenkins agents)."
  type        = list(string)
  default     = []
}

variable "poc_aurora" {
  description = "Create the seed's small Aurora cluster with logging turned on, to have logs to read."
  type        = object({ enabled = bool, engine = string, engine_version = string, parameter_group_family = string })
  default     = { enabled = false, engine = "aurora-mysql", engine_version = "8.0.mysql_aurora.3.08.0", parameter_group_family = "aurora-mysql8.0" }
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
