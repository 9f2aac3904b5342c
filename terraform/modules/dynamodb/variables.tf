variable "tables" {
  description = "Table names (INSTANCE_TABLE, TRACKING_TABLE, JOBS_TABLE)."
  type        = object({ instance = string, tracking = string, jobs = string })
}

variable "kms_key_arn" {
  description = "Customer-managed key of the tables."
  type        = string
}

variable "deletion_protection" {
  description = "Refuse to delete a table (production: true)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
