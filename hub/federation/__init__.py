"""Federation and everything that talks to other servers; for now the one outbound client."""
