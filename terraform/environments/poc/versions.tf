terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "= 5.100.0"
    }
  }

  # State in S3 with locking; the bucket and table exist before the first apply:
  #   terraform init -backend-config="bucket=..." -backend-config="key=aurora-log-system/poc.tfstate" \
  #     -backend-config="region=us-east-1" -backend-config="dynamodb_table=..."
  backend "s3" {
    encrypt = true
  }
}
