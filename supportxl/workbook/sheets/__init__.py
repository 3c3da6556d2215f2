"""One module per kind of sheet; each exposes ``write(ctx, worksheet)``-style builders."""
