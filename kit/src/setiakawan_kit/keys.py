"""Token signing keys: an Ed25519 key pair per issuer, its public half
published as a JWKS document that services verify with. The private key
never leaves the issuer (file mode 0600); rotating adds a new key to the
JWKS before the old one is retired, so tokens signed with either verify
meanwhile."""
import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

ALGORITHM = "EdDSA"
SIGNING_KEY_FILE = "signing-key.pem"
JWKS_FILE = "jwks.json"


class KeyFileError(RuntimeError):
    """A key file that is missing, unreadable or not what it should be."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey
    algorithm: str = ALGORITHM

    def public_jwk(self):
        jwk = OKPAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


def thumbprint(public_key):
    """RFC 7638 JWK thumbprint: the key id, derived from the key itself."""
    jwk = OKPAlgorithm.to_jwk(public_key, as_dict=True)
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def generate():
    private_key = Ed25519PrivateKey.generate()
    return SigningKey(thumbprint(private_key.public_key()), private_key)


def load_signing_key(path):
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read the signing key {path}: {exc.strerror}") from None
    try:
        private_key = serialization.load_pem_private_key(data, password=None)
    except ValueError:
        raise KeyFileError(f"{path} is not a PEM private key") from None
    if not isinstance(private_key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} is not an Ed25519 key")
    return SigningKey(thumbprint(private_key.public_key()), private_key)


def write_private(path, data):
    """Write ``data`` to a new file only its owner can read."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".new")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)


def _pem(key):
    return key.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())


def read_jwks(path):
    try:
        document = json.loads(Path(path).read_text())
    except FileNotFoundError:
        return {"keys": []}
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"cannot read the JWKS {path}: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise KeyFileError(f"{path} is not a JWKS document (an object with a 'keys' list)")
    return document


def _write_jwks(path, keys):
    path = Path(path)
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(json.dumps({"keys": keys}, indent=2) + "\n")
    tmp.chmod(0o644)
    os.replace(tmp, path)


@dataclass(frozen=True)
class KeyFiles:
    """An issuer's key folder: its signing key and the JWKS services read."""

    directory: Path

    @property
    def signing_key(self):
        return self.directory / SIGNING_KEY_FILE

    @property
    def jwks(self):
        return self.directory / JWKS_FILE

    def init(self):
        """Make a key pair and its JWKS unless the folder has one; returns
        (key, created)."""
        if self.signing_key.exists():
            key = load_signing_key(self.signing_key)
            if key.kid not in {k.get("kid") for k in read_jwks(self.jwks)["keys"]}:
                _write_jwks(self.jwks, [*read_jwks(self.jwks)["keys"], key.public_jwk()])
            return key, False
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        key = generate()
        _write_jwks(self.jwks, [*read_jwks(self.jwks)["keys"], key.public_jwk()])
        write_private(self.signing_key, _pem(key))
        return key, True

    def rotate(self):
        """A new signing key; the JWKS keeps the previous public key until
        it is retired, so tokens already issued stay valid."""
        key = generate()
        _write_jwks(self.jwks, [*read_jwks(self.jwks)["keys"], key.public_jwk()])
        write_private(self.signing_key, _pem(key))
        return key

    def retire(self, kid):
        current = load_signing_key(self.signing_key).kid if self.signing_key.exists() else None
        if kid == current:
            raise KeyFileError(f"{kid} is the current signing key; rotate first")
        keys = read_jwks(self.jwks)["keys"]
        kept = [k for k in keys if k.get("kid") != kid]
        if len(kept) == len(keys):
            raise KeyFileError(f"no key {kid} in {self.jwks}")
        _write_jwks(self.jwks, kept)
