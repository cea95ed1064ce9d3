variable "db_password" {
  type      = string
  sensitive = true
}

resource "random_password" "db" {
  length  = 32
  special = true
}

resource "aws_db_instance" "ledger" {
  identifier        = "ledger"
  engine            = "postgres"
  instance_class    = "db.t4g.medium"
  username          = "ledger"
  password          = var.db_password
  allocated_storage = 50
}

resource "aws_secretsmanager_secret_version" "db" {
  secret_id     = aws_secretsmanager_secret.db.id
  secret_string = jsonencode({ password = random_password.db.result })
}

output "db_password_arn" {
  value = aws_secretsmanager_secret.db.arn
}
