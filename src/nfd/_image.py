"""The client image: where ``scripts/build-image`` tags it and ``nfd compat job`` finds it.

No imports: ``scripts/build-image`` reads this file on a machine where the project's
dependencies need not be installed.
"""

CLIENT_IMAGE_REPOSITORY = "ghcr.io/nfd-client/nfd-client"
SOURCE_URL = "https://github.com/nfd-client/nfd-client"


def client_image(version: str) -> str:
    """The image ``build-image`` makes from this version of the project."""
    return f"{CLIENT_IMAGE_REPOSITORY}:v{version}"
