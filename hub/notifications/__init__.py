"""In-app notifications and their optional e-mails."""
