variable "name" {
  description = "Replication group id."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the cache."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets of the cache nodes."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups allowed to connect (the EKS nodes')."
  type        = list(string)
}

variable "node_type" {
  description = "Graviton cache node type. The cache holds Describe answers and the token bucket: small."
  type        = string
  default     = "cache.t4g.small"
}

variable "replicas" {
  description = "Cache nodes, in different zones, with automatic failover."
  type        = number
  default     = 2
  validation {
    condition     = var.replicas >= 2
    error_message = "At least two nodes: the token bucket of every replica lives here."
  }
}

variable "engine_version" {
  description = "Valkey version."
  type        = string
  default     = "8.0"
}

variable "kms_key_arn" {
  description = "Key encrypting the data at rest."
  type        = string
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
