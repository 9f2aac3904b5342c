variable "bucket" {
  description = "Name of the raw-log archive bucket (S3_BUCKET)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed key of the objects (SSE-KMS with a bucket key: one KMS call per object batch, not per object)."
  type        = string
}

variable "transition_days" {
  description = "Days after which objects move to cheaper tiers."
  type        = object({ standard_ia = number, glacier_ir = number, deep_archive = number })
  default     = { standard_ia = 30, glacier_ir = 90, deep_archive = 365 }
}

variable "expiration_days" {
  description = "Days after which archived objects are deleted; 0 keeps them."
  type        = number
  default     = 0
}

variable "access_log_bucket" {
  description = "Bucket receiving the server access logs."
  type        = string
}

variable "replication" {
  description = "Optional cross-region replication: destination bucket ARN and its KMS key ARN."
  type        = object({ enabled = bool, destination_bucket_arn = string, destination_kms_key_arn = string })
  default     = { enabled = false, destination_bucket_arn = "", destination_kms_key_arn = "" }
}

variable "force_destroy" {
  description = "Allow deleting a bucket that holds objects (POC only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
