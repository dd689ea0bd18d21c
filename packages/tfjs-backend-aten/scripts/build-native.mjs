console.log("tfjs-backend-aten: native build not wired yet");
