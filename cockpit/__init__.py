"""The finance cockpit: a Streamlit app over the marts (see README.md). No dagster, no orchestration import."""
