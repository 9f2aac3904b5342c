variable "name" {
  description = "Cluster name."
  type        = string
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version."
  type        = string
  default     = "1.31"
}

variable "vpc_id" {
  description = "VPC of the cluster."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets of the nodes (the VPC module's workload_subnet_ids)."
  type        = list(string)
}

variable "nodes_public_ip" {
  description = "Give nodes public addresses (the VPC reaches the RDS API through the internet gateway)."
  type        = bool
  default     = false
}

variable "public_endpoint_cidrs" {
  description = "CIDRs allowed to the public API endpoint; empty keeps the endpoint private."
  type        = list(string)
  default     = []
}

variable "kms_key_arn" {
  description = "Key encrypting Kubernetes secrets and the control-plane log group."
  type        = string
}

variable "system_nodes" {
  description = "On-demand Graviton nodes for discovery and the cluster's own pods."
  type        = object({ instance_types = list(string), min = number, max = number, desired = number })
  default     = { instance_types = ["m7g.large"], min = 2, max = 4, desired = 2 }
}

variable "processor_spot_nodes" {
  description = "Spot Graviton nodes for the processors (tainted aurora-log-system/spot=true:NoSchedule)."
  type        = object({ instance_types = list(string), min = number, max = number, desired = number })
  default     = { instance_types = ["c7g.xlarge", "c6g.xlarge", "m7g.xlarge", "m6g.xlarge"], min = 0, max = 24, desired = 2 }
}

variable "fargate_namespaces" {
  description = "Namespaces run on Fargate (optional; e.g. a POC without node groups for discovery). Fargate has no arm64 choice and no DaemonSets."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Retention of the control-plane logs."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
