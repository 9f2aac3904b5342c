variable "name" {
  description = "Prefix of every resource name."
  type        = string
}

variable "cidr_block" {
  description = "CIDR of the VPC."
  type        = string
  default     = "10.40.0.0/16"
}

variable "azs" {
  description = "Availability zones (at least two; three in production)."
  type        = list(string)
  validation {
    condition     = length(var.azs) >= 2
    error_message = "At least two availability zones."
  }
}

variable "rds_api_egress" {
  description = <<-EOT
    How the log download traffic (up to ~100 TB a month) reaches the RDS API. Never a NAT gateway:
    at $0.045/GB it would cost about $4,600 a month for 100 TB.
      "interface_endpoint": nodes in private subnets; an RDS interface endpoint (plus STS, ECR,
                            CloudWatch Logs) with private DNS carries the API calls and downloads
                            ($0.01/GB processed).
      "internet_gateway":   nodes in public subnets with public addresses, egress through the
                            internet gateway (no per-GB charge for data coming in); security
                            groups allow no inbound traffic from outside.
  EOT
  type        = string
  default     = "interface_endpoint"
  validation {
    condition     = contains(["interface_endpoint", "internet_gateway"], var.rds_api_egress)
    error_message = "rds_api_egress is \"interface_endpoint\" or \"internet_gateway\"."
  }
}

variable "nat_gateway_for_small_egress" {
  description = "A single NAT gateway for the private subnets' other egress (e.g. an OpenObserve outside AWS). Log downloads never use it: the RDS endpoint's private DNS wins."
  type        = bool
  default     = false
}

variable "flow_log_retention_days" {
  description = "Retention of the VPC flow logs."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "KMS key encrypting the flow-log group."
  type        = string
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
