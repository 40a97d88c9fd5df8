"""Every SQL query of the server lives in a repository; services compose them and never commit."""
