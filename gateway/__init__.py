"""The API gateway: checks keys, limits rates, routes /api/1/{apikey}/... to the services."""
