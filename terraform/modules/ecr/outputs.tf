output "repository_urls" {
  description = "URL of each repository."
  value       = { for k, r in aws_ecr_repository.this : k => r.repository_url }
}
