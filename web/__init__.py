"""The web page that app.py serves: a module for each tab, what the tabs do without gradio, and the process's care."""
