output "table_arns" {
  description = "ARN of each table."
  value       = { for k, t in aws_dynamodb_table.this : k => t.arn }
}
