"""What a user wants notified, where and when: the type-by-channel grid, quiet hours, email digests."""
