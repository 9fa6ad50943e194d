"""What a wg-quick configuration file says: its interface and peers, with every secret gone."""
