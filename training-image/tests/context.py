"""Puts training-image/ on sys.path, so `python3 -m unittest discover -s training-image/tests` works from any directory."""
import sys
from pathlib import Path

IMAGE_DIR = Path(__file__).resolve().parent.parent
if str(IMAGE_DIR) not in sys.path:
    sys.path.insert(0, str(IMAGE_DIR))
