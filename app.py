"""DCGAN Studio's browser app: `python app.py` (also the Hugging Face Space entry point)."""
from dcgan.ui.app import build_app, launch_kwargs

demo = build_app()

if __name__ == "__main__":
    demo.launch(**launch_kwargs())
