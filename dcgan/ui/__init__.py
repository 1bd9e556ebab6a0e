"""The Gradio app's tabs. Only modules in this package import gradio."""
