"""`ledgerbank audit ...`: the audit trail's hash chain and its signed checkpoints."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.console import Console

from ledgerbank.audit import checkpoints, keys
from ledgerbank.config import get_settings
from ledgerbank.kit.commands import open_database

app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)
console = Console()


@app.command("checkpoint")
def checkpoint_command(
    out: Path | None = typer.Option(
        None, "--out", help="Also write the signed checkpoint to this JSON file."
    ),
) -> None:
    """Seal pending records and sign the chain's head with the audit signing key."""
    settings = get_settings()
    signer = keys.require_signer(settings)
    document = checkpoints.checkpoint(open_database(), signer)
    if document is None:
        console.print("nothing to sign: the audit chain is empty")
        raise typer.Exit(1)
    text = json.dumps(document, indent=2, sort_keys=True)
    if out is not None:
        out.write_text(text + "\n")
    console.print(
        f"checkpoint signed by key {document['key_id']}: chain position {document['position']}, "
        f"hash {document['chain_hash']}" + (f", written to {out}" if out else "")
    )
    if out is None:
        console.print_json(text)


@app.command("keygen")
def keygen_command(
    out: Path = typer.Option(
        ..., "--out", help="Where to write the private key (outside the data folder)."
    ),
) -> None:
    """Make an Ed25519 signing key: the private key into a file only its owner can read, the
    public key printed (give it to whoever verifies checkpoints)."""
    settings = get_settings()
    path = keys.check_key_file(out, settings)
    if path.exists():
        console.print(f"[red]{path} exists[/red]: refusing to overwrite a key")
        raise typer.Exit(1)
    private, public = keys.generate()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(private + "\n")
    signer = keys.Signer(keys.parse_private(private))
    console.print(f"private key written to {path} (mode 600); key id {signer.key_id}")
    console.print(f"public key: {public}")
    console.print(f"use it with: LEDGERBANK_AUDIT_SIGNING_KEY_FILE={path}")
