"""What every app shares and no app owns: the domain error, row locks, request helpers, masking."""
