variable "repositories" {
  description = "Repository names (one per image)."
  type        = list(string)
  default     = ["aurora-discovery", "aurora-processor"]
}

variable "kms_key_arn" {
  description = "Key encrypting the images."
  type        = string
}

variable "keep_images" {
  description = "Tagged images kept per repository."
  type        = number
  default     = 50
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
