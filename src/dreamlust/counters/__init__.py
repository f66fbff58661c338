"""The denormalized counters: what each one counts, and `dreamlust recount` to rebuild them."""
