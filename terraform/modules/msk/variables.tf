variable "enabled" {
  description = "Create the MSK cluster (off when Kafka runs elsewhere, e.g. in the POC cluster)."
  type        = bool
  default     = false
}

variable "name" {
  description = "Cluster name (the IAM policies' msk_cluster_name)."
  type        = string
}

variable "kafka_version" {
  description = "Kafka version."
  type        = string
  default     = "3.7.x"
}

variable "broker_instance_type" {
  description = "Graviton broker type."
  type        = string
  default     = "kafka.m7g.large"
}

variable "brokers" {
  description = "Broker count, a multiple of the subnets' zones (3 for replication factor 3)."
  type        = number
  default     = 3
}

variable "volume_size_gb" {
  description = "EBS storage per broker. Messages are small hints (one per log file change)."
  type        = number
  default     = 100
}

variable "vpc_id" {
  description = "VPC of the brokers."
  type        = string
}

variable "subnet_ids" {
  description = "One private subnet per zone."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups allowed to connect (the EKS nodes')."
  type        = list(string)
}

variable "scram_enabled" {
  description = "Also allow SASL/SCRAM (secrets in Secrets Manager, associated outside this module)."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "Key encrypting the brokers' storage and the broker log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the broker logs."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
