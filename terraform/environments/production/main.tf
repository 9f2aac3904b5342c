# Production: 316 instances, ~100 TB of logs a month. MSK with IAM auth, ElastiCache Valkey,
# EKS on Graviton with spot processors, roles bound by EKS Pod Identity.

provider "aws" {
  region = var.region
  default_tags {
    tags = merge(var.tags, { Project = "aurora-log-system", Environment = "production" })
  }
}

locals {
  tables = {
    instance = "${var.name}-instance-metadata"
    tracking = "${var.name}-tracking"
    jobs     = "${var.name}-jobs"
  }
}

module "kms" {
  source = "../../modules/kms"
  name   = var.name
}

module "vpc" {
  source         = "../../modules/vpc"
  name           = var.name
  cidr_block     = var.vpc_cidr
  azs            = var.azs
  rds_api_egress = var.rds_api_egress
  kms_key_arn    = module.kms.key_arn
}

module "eks" {
  source                = "../../modules/eks"
  name                  = var.name
  vpc_id                = module.vpc.vpc_id
  subnet_ids            = module.vpc.workload_subnet_ids
  nodes_public_ip       = module.vpc.nodes_need_public_ip
  public_endpoint_cidrs = var.public_endpoint_cidrs
  kms_key_arn           = module.kms.key_arn
  system_nodes          = { instance_types = ["m7g.large"], min = 3, max = 6, desired = 3 }
  processor_spot_nodes  = { instance_types = ["c7g.xlarge", "c6g.xlarge", "m7g.xlarge", "m6g.xlarge"], min = 2, max = 24, desired = 4 }
}

module "ecr" {
  source      = "../../modules/ecr"
  kms_key_arn = module.kms.key_arn
}

module "dynamodb" {
  source      = "../../modules/dynamodb"
  tables      = local.tables
  kms_key_arn = module.kms.key_arn
}

module "s3" {
  source            = "../../modules/s3"
  bucket            = var.archive_bucket
  kms_key_arn       = module.kms.key_arn
  access_log_bucket = var.access_log_bucket
  replication       = var.replication
}

module "elasticache" {
  source                    = "../../modules/elasticache"
  name                      = var.name
  vpc_id                    = module.vpc.vpc_id
  subnet_ids                = module.vpc.private_subnet_ids
  client_security_group_ids = [module.eks.node_security_group_id]
  replicas                  = 2
  kms_key_arn               = module.kms.key_arn
}

module "msk" {
  source                    = "../../modules/msk"
  enabled                   = true
  name                      = "${var.name}-logs"
  vpc_id                    = module.vpc.vpc_id
  subnet_ids                = module.vpc.private_subnet_ids
  client_security_group_ids = [module.eks.node_security_group_id]
  brokers                   = 3
  kms_key_arn               = module.kms.key_arn
}

module "iam" {
  source                  = "../../modules/iam"
  name                    = var.name
  namespace               = var.namespace
  cluster_name            = module.eks.cluster_name
  pod_identity            = true
  tables                  = local.tables
  bucket                  = var.archive_bucket
  kms_key_arn             = module.kms.key_arn
  msk_cluster_name        = module.msk.cluster_name
  cross_account_role_arns = var.cross_account_role_arns
}

# The fleet exists; the POC cluster module stays off in production.
