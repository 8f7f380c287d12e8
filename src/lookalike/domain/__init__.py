"""The model of the domain, below every layer: what an image is (`image`), the filter tree searches and
deletes are restricted by (`filters`), and what can go wrong (`errors`). Free of wire names and codes."""
