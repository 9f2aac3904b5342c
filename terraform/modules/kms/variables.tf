variable "name" {
  description = "Alias of the key (alias/NAME) and prefix of its description."
  type        = string
}

variable "deletion_window_days" {
  description = "Days a deleted key can still be restored."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
