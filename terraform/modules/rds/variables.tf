variable "enabled" {
  description = "Create the POC Aurora cluster (off by default: the fleet usually exists)."
  type        = bool
  default     = false
}

variable "name" {
  description = "Cluster identifier."
  type        = string
}

variable "engine" {
  description = "aurora-mysql or aurora-postgresql."
  type        = string
  default     = "aurora-mysql"
  validation {
    condition     = contains(["aurora-mysql", "aurora-postgresql"], var.engine)
    error_message = "engine is aurora-mysql or aurora-postgresql."
  }
}

variable "engine_version" {
  description = "Engine version (Aurora MySQL 3 / Aurora PostgreSQL 16)."
  type        = string
  default     = "8.0.mysql_aurora.3.08.0"
}

variable "parameter_group_family" {
  description = "Cluster parameter group family matching the engine version."
  type        = string
  default     = "aurora-mysql8.0"
}

variable "instance_class" {
  description = "A small Graviton instance."
  type        = string
  default     = "db.t4g.medium"
}

variable "instances" {
  description = "Instances in the cluster."
  type        = number
  default     = 1
}

variable "vpc_id" {
  description = "VPC of the cluster."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the cluster."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups allowed to connect (to generate load in a POC)."
  type        = list(string)
  default     = []
}

variable "long_query_time" {
  description = "Seconds after which a statement is written to the slow log (MySQL)."
  type        = number
  default     = 1
}

variable "general_log" {
  description = "Write the general log (every statement: large; for a POC)."
  type        = bool
  default     = false
}

variable "audit_events" {
  description = "server_audit_events of Aurora MySQL advanced auditing; empty turns auditing off."
  type        = string
  default     = "CONNECT,QUERY_DCL,QUERY_DDL"
}

variable "log_min_duration_statement_ms" {
  description = "Aurora PostgreSQL: statements slower than this are logged; -1 turns it off."
  type        = number
  default     = 1000
}

variable "kms_key_arn" {
  description = "Key encrypting the storage and Performance Insights."
  type        = string
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
