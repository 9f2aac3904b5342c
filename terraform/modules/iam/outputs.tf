output "role_arns" {
  description = "Role of each service: serviceAccounts.<service>.roleArn in the chart (IRSA)."
  value       = { for k, r in aws_iam_role.service : k => r.arn }
}
