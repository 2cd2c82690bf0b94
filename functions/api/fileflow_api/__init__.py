"""The API function: FastAPI behind API Gateway (REST) through Mangum."""
