from fileflow_client.cli import main

raise SystemExit(main())
