# EKS on Graviton (arm64): a small on-demand node group, a spot node group for the processors
# (a reclaimed node costs a consumer-group rebalance, nothing more: checkpoints are in DynamoDB),
# optional Fargate profile, the Pod Identity agent, and an OIDC provider for IRSA.

data "aws_partition" "current" {}

# Who may assume each of the cluster's own roles.
locals {
  role_services = {
    cluster = "eks.amazonaws.com"
    node    = "ec2.amazonaws.com"
    fargate = "eks-fargate-pods.amazonaws.com"
  }
}

data "aws_iam_policy_document" "assume" {
  for_each = local.role_services
  statement {
    actions = each.key == "cluster" ? ["sts:AssumeRole", "sts:TagSession"] : ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [each.value]
    }
  }
}

resource "aws_iam_role" "cluster" {
  name               = "${var.name}-cluster"
  assume_role_policy = data.aws_iam_policy_document.assume["cluster"].json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "cluster" {
  role       = aws_iam_role.cluster.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonEKSClusterPolicy"
}

resource "aws_cloudwatch_log_group" "cluster" {
  name              = "/aws/eks/${var.name}/cluster"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_eks_cluster" "this" {
  name                      = var.name
  version                   = var.kubernetes_version
  role_arn                  = aws_iam_role.cluster.arn
  enabled_cluster_log_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]

  access_config {
    authentication_mode = "API"
  }

  vpc_config {
    subnet_ids              = var.subnet_ids
    endpoint_private_access = true
    endpoint_public_access  = length(var.public_endpoint_cidrs) > 0
    public_access_cidrs     = length(var.public_endpoint_cidrs) > 0 ? var.public_endpoint_cidrs : null
  }

  encryption_config {
    resources = ["secrets"]
    provider {
      key_arn = var.kms_key_arn
    }
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy_attachment.cluster, aws_cloudwatch_log_group.cluster]
}

resource "aws_eks_addon" "this" {
  for_each     = toset(["vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent"])
  cluster_name = aws_eks_cluster.this.name
  addon_name   = each.key
  tags         = var.tags
}

# IRSA: the chart's serviceAccounts.<service>.roleArn, when Pod Identity is not used.
resource "aws_iam_openid_connect_provider" "this" {
  url            = aws_eks_cluster.this.identity[0].oidc[0].issuer
  client_id_list = ["sts.amazonaws.com"]
  tags           = var.tags
}

resource "aws_iam_role" "node" {
  name               = "${var.name}-node"
  assume_role_policy = data.aws_iam_policy_document.assume["node"].json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each   = toset(["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"])
  role       = aws_iam_role.node.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/${each.key}"
}

# IMDSv2 only, one hop: pods cannot borrow the node's role through the metadata service.
resource "aws_launch_template" "node" {
  name_prefix = "${var.name}-node-"

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  network_interfaces {
    associate_public_ip_address = var.nodes_public_ip
    security_groups             = [aws_eks_cluster.this.vpc_config[0].cluster_security_group_id]
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size = 40
      volume_type = "gp3"
      encrypted   = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = var.tags
  }
}

locals {
  node_groups = {
    system = {
      capacity = "ON_DEMAND"
      config   = var.system_nodes
      taints   = []
    }
    processors = {
      capacity = "SPOT"
      config   = var.processor_spot_nodes
      taints   = [{ key = "aurora-log-system/spot", value = "true", effect = "NO_SCHEDULE" }]
    }
  }
}

resource "aws_eks_node_group" "this" {
  for_each        = local.node_groups
  cluster_name    = aws_eks_cluster.this.name
  node_group_name = each.key
  node_role_arn   = aws_iam_role.node.arn
  subnet_ids      = var.subnet_ids
  ami_type        = "AL2023_ARM_64_STANDARD"
  capacity_type   = each.value.capacity
  instance_types  = each.value.config.instance_types

  launch_template {
    id      = aws_launch_template.node.id
    version = aws_launch_template.node.latest_version
  }

  scaling_config {
    min_size     = each.value.config.min
    max_size     = each.value.config.max
    desired_size = each.value.config.desired
  }

  update_config {
    max_unavailable = 1
  }

  labels = { "aurora-log-system/pool" = each.key }

  dynamic "taint" {
    for_each = each.value.taints
    content {
      key    = taint.value.key
      value  = taint.value.value
      effect = taint.value.effect
    }
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy_attachment.node]

  lifecycle {
    ignore_changes = [scaling_config[0].desired_size]
  }
}

resource "aws_iam_role" "fargate" {
  count              = length(var.fargate_namespaces) > 0 ? 1 : 0
  name               = "${var.name}-fargate"
  assume_role_policy = data.aws_iam_policy_document.assume["fargate"].json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "fargate" {
  count      = length(var.fargate_namespaces) > 0 ? 1 : 0
  role       = aws_iam_role.fargate[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy"
}

resource "aws_eks_fargate_profile" "this" {
  count                  = length(var.fargate_namespaces) > 0 ? 1 : 0
  cluster_name           = aws_eks_cluster.this.name
  fargate_profile_name   = "${var.name}-fargate"
  pod_execution_role_arn = aws_iam_role.fargate[0].arn
  subnet_ids             = var.subnet_ids

  dynamic "selector" {
    for_each = toset(var.fargate_namespaces)
    content {
      namespace = selector.value
    }
  }

  tags = var.tags
}
