# One role per service, least privilege: the policies are the JSON documents in terraform/iam/
# (also for users without Terraform), filled in here. Bound to the pods by EKS Pod Identity or
# by IRSA (an OIDC trust on the service account).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  services = toset(["discovery", "processor"])
  policy_vars = {
    partition        = data.aws_partition.current.partition
    region           = data.aws_region.current.name
    account_id       = data.aws_caller_identity.current.account_id
    instance_table   = var.tables.instance
    tracking_table   = var.tables.tracking
    jobs_table       = var.tables.jobs
    bucket           = var.bucket
    prefix           = var.s3_prefix
    kms_key_arn      = var.kms_key_arn
    msk_cluster_name = var.msk_cluster_name
  }
}

data "aws_iam_policy_document" "trust" {
  for_each = local.services

  dynamic "statement" {
    for_each = var.pod_identity ? [1] : []
    content {
      actions = ["sts:AssumeRole", "sts:TagSession"]
      principals {
        type        = "Service"
        identifiers = ["pods.eks.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.pod_identity ? [] : [1]
    content {
      actions = ["sts:AssumeRoleWithWebIdentity"]
      principals {
        type        = "Federated"
        identifiers = [var.oidc_provider_arn]
      }
      condition {
        test     = "StringEquals"
        variable = "${var.oidc_issuer}:sub"
        values   = ["system:serviceaccount:${var.namespace}:${var.service_accounts[each.key]}"]
      }
      condition {
        test     = "StringEquals"
        variable = "${var.oidc_issuer}:aud"
        values   = ["sts.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role" "service" {
  for_each             = local.services
  name                 = "${var.name}-${each.key}"
  assume_role_policy   = data.aws_iam_policy_document.trust[each.key].json
  max_session_duration = 3600
  tags                 = merge(var.tags, { Service = each.key })
}

resource "aws_iam_role_policy" "service" {
  for_each = local.services
  name     = "aurora-${each.key}"
  role     = aws_iam_role.service[each.key].id
  policy   = templatefile("${path.module}/../../iam/${each.key}.json", local.policy_vars)
}

data "aws_iam_policy_document" "cross_account" {
  count = length(var.cross_account_role_arns) > 0 ? 1 : 0
  statement {
    actions   = ["sts:AssumeRole"]
    resources = var.cross_account_role_arns
  }
}

resource "aws_iam_role_policy" "cross_account" {
  for_each = length(var.cross_account_role_arns) > 0 ? local.services : toset([])
  name     = "assume-fleet-accounts"
  role     = aws_iam_role.service[each.key].id
  policy   = data.aws_iam_policy_document.cross_account[0].json
}

resource "aws_eks_pod_identity_association" "service" {
  for_each        = var.pod_identity ? local.services : toset([])
  cluster_name    = var.cluster_name
  namespace       = var.namespace
  service_account = var.service_accounts[each.key]
  role_arn        = aws_iam_role.service[each.key].arn
  tags            = var.tags
}
