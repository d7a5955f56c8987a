"""``make demo`` (``python -m demo``): load the seed programmes into the
platform ``make run`` started, then say what to look at."""
import os
import sys
from pathlib import Path

import click

from setiakawan_kit import keys

from . import scenario
from .platform import DEFAULT_URLS, Platform, Refused


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--key", "key_path", type=click.Path(dir_okay=False, path_type=Path), envvar="SETIAKAWAN_SIGNING_KEY",
              help="The token issuer's private key (default: the development key 'make run' made).")
@click.option("--url", "urls", multiple=True, metavar="SERVICE=URL",
              help="Where a service answers, e.g. registry=http://127.0.0.1:8001 (defaults: make run's).")
def main(key_path, urls):
    """Load the seed reports' programmes through the services' APIs: sembako in Barito Timur, Balangan's
    Social Solidarity Day, Karang Taruna in Kalimantan Utara, Kutai Kartanegara's training per
    sub-district and a company's CSR courses in Leksono. Run it again: it sees the demo is loaded."""
    key_path = key_path or Path(os.environ.get("SETIAKAWAN_HOME", ".setiakawan")) / "keys" / "signing-key.pem"
    if not key_path.exists():
        raise click.ClickException(f"no signing key at {key_path}: start the platform with 'make run' first")
    where = dict(DEFAULT_URLS, **dict(u.split("=", 1) for u in urls))
    platform = Platform(where, keys.load_signing_key(key_path))
    down = platform.healthy()
    if down:
        raise click.ClickException(f"not answering: {', '.join(down)}; start the platform with 'make run' "
                                   "(it starts the sandbox gateway and mail catcher too)")
    if scenario.loaded(platform):
        click.echo("The demo is loaded already.")
    else:
        try:
            scenario.load(platform, say=click.echo)
        except (Refused, TimeoutError) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo("The demo is loaded.")
    click.echo(f"""
What to look at:
  {where['sandbox']}/                 SMS and WhatsApp the gateway took, emails the mail catcher caught
  .venv/bin/setiakawan status            the platform at a glance
A token to read the reports with (any agency, any region):
  TOKEN=$(.venv/bin/setiakawan token --agency "{scenario.PROV_KALTENG.name}" --kind province --role viewer --regions 62)
  curl -s -H "Authorization: Bearer $TOKEN" "{where['distribution']}/programmes?status=active"
  curl -s -H "Authorization: Bearer $TOKEN" "{where['distribution']}/reports/programmes/<id>.csv"
  curl -s -H "Authorization: Bearer $TOKEN" "{where['notifications']}/messages?event_type=entitlement.blocked"
  KUKAR=$(.venv/bin/setiakawan token --agency "{scenario.KUKAR.name}" --kind district --role viewer --regions 64.02)
  curl -s -H "Authorization: Bearer $KUKAR" "{where['training']}/reports/participation?by=region&level=district"
Who does what where in Kalimantan Tengah this month, and the poor households nobody reached:
  SETIAKAWAN_TOKEN=$TOKEN .venv/bin/setiakawan report coordination --region 62 --url {where['coordination']}
Messages to people wait for 06:00 in their own time zone when the demo runs at night.""")


if __name__ == "__main__":
    sys.exit(main())
