"""DCGAN Studio's browser app: `python app.py` (also the Hugging Face Space entry point)."""
from dcgan.ui.home import build

demo = build()

if __name__ == "__main__":
    demo.launch()
