console.log('engine demo placeholder');
