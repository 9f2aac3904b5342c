output "vpc_id" {
  description = "The VPC."
  value       = aws_vpc.this.id
}

output "cidr_block" {
  description = "CIDR of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnets, one per zone."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private subnets, one per zone."
  value       = aws_subnet.private[*].id
}

output "workload_subnet_ids" {
  description = "Where the nodes go: private subnets behind the RDS interface endpoint, or public subnets when the RDS API is reached through the internet gateway."
  value       = var.rds_api_egress == "internet_gateway" ? aws_subnet.public[*].id : aws_subnet.private[*].id
}

output "nodes_need_public_ip" {
  description = "True when the nodes reach the RDS API through the internet gateway."
  value       = var.rds_api_egress == "internet_gateway"
}
