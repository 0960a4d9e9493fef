"""`ledgerbank audit ...`: the audit trail's hash chain and its signed checkpoints."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.console import Console

from ledgerbank.audit import checkpoints, keys, proof
from ledgerbank.config import get_settings
from ledgerbank.kit.commands import open_database
from ledgerbank.ledger.commands import print_findings

app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)
console = Console()


@app.command("verify")
def verify_command(
    checkpoint: list[Path] = typer.Option(
        [], "--checkpoint", help="An exported checkpoint file to check too (repeatable)."
    ),
    trusted_key: list[str] = typer.Option(
        [], "--trusted-key", help="A public key (base64) to trust besides the configured ones."
    ),
) -> None:
    """Seal pending records, walk the whole chain, check every signed checkpoint (stored and
    given) and every recorded posting against the ledger; exit code 0 only when intact."""
    result = proof.verify(
        open_database(), get_settings(), files=checkpoint, trusted_keys=trusted_key
    )
    chain = result.chain
    if chain.ok:
        console.print(f"[green]audit chain intact[/green]: {chain.checked} records checked")
    else:
        console.print(
            f"[red]audit chain BROKEN[/red] at record {chain.first_broken_id}: {chain.detail} "
            f"({chain.checked} records checked before it)"
        )
    signed = result.checkpoints
    for problem in signed.problems:
        console.print(f"[red]checkpoint problem[/red]: {problem}")
    if signed.newest_position is not None:
        console.print(
            f"{signed.checked} signed checkpoint(s) checked; the newest valid one covers chain "
            f"position {signed.newest_position} ({signed.newest_created_at}); "
            f"{result.uncovered} record(s) after it are covered by no checkpoint yet"
        )
    elif not signed.problems:
        console.print(
            "[yellow]no signed checkpoint[/yellow]: a chain rewritten with recomputed hashes "
            "would go unnoticed (`ledgerbank audit checkpoint` signs one)"
        )
    if result.ledger.findings:
        print_findings(result.ledger.findings)
        console.print(
            f"[red]the ledger does not match its audit records[/red]: "
            f"{len(result.ledger.findings)} finding(s)"
        )
    else:
        console.print(
            f"every recorded posting matches the ledger ({result.ledger.postings} checked)"
        )
    if not result.ok:
        raise typer.Exit(1)


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
