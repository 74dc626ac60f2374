"""Instance administration: settings, the account list, and the record of admin actions."""
