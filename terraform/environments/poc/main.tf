# POC: a few instances, one account. Kafka, Valkey and OpenObserve run in the cluster (the
# chart's values-poc.yaml), nodes in public subnets reach the RDS API through the internet
# gateway (no NAT, no interface-endpoint hours), roles bound by IRSA. Optionally the seed's
# small Aurora cluster with its logs turned on.

provider "aws" {
  region = var.region
  default_tags {
    tags = merge(var.tags, { Project = "aurora-log-system", Environment = "poc" })
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
  source               = "../../modules/kms"
  name                 = var.name
  deletion_window_days = 7
}

module "vpc" {
  source         = "../../modules/vpc"
  name           = var.name
  azs            = var.azs
  rds_api_egress = "internet_gateway"
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
  system_nodes          = { instance_types = ["t4g.large"], min = 1, max = 3, desired = 2 }
  processor_spot_nodes  = { instance_types = ["c7g.large", "c6g.large", "m7g.large"], min = 0, max = 3, desired = 1 }
  log_retention_days    = 365
}

module "ecr" {
  source      = "../../modules/ecr"
  kms_key_arn = module.kms.key_arn
  keep_images = 10
}

module "dynamodb" {
  source              = "../../modules/dynamodb"
  tables              = local.tables
  kms_key_arn         = module.kms.key_arn
  deletion_protection = false
}

module "s3" {
  source            = "../../modules/s3"
  bucket            = var.archive_bucket
  kms_key_arn       = module.kms.key_arn
  access_log_bucket = var.access_log_bucket
  expiration_days   = 90
  transition_days   = { standard_ia = 30, glacier_ir = 60, deep_archive = 80 }
  force_destroy     = true
}

module "iam" {
  source            = "../../modules/iam"
  name              = var.name
  namespace         = var.namespace
  cluster_name      = module.eks.cluster_name
  pod_identity      = false
  oidc_provider_arn = module.eks.oidc_provider_arn
  oidc_issuer       = module.eks.oidc_issuer
  tables            = local.tables
  bucket            = var.archive_bucket
  kms_key_arn       = module.kms.key_arn
}

module "rds" {
  source                    = "../../modules/rds"
  enabled                   = var.poc_aurora.enabled
  name                      = "${var.name}-aurora"
  engine                    = var.poc_aurora.engine
  engine_version            = var.poc_aurora.engine_version
  parameter_group_family    = var.poc_aurora.parameter_group_family
  vpc_id                    = module.vpc.vpc_id
  subnet_ids                = module.vpc.private_subnet_ids
  client_security_group_ids = [module.eks.node_security_group_id]
  general_log               = true
  kms_key_arn               = module.kms.key_arn
}
